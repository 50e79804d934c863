"""HTTP: the lead report."""

from fastapi import APIRouter

router = APIRouter()

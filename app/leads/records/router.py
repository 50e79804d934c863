"""HTTP: leads."""

from fastapi import APIRouter

router = APIRouter()

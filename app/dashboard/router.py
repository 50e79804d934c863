"""HTTP: the caller's dashboard."""

from fastapi import APIRouter

router = APIRouter()

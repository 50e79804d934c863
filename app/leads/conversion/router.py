"""HTTP: converting a lead in one step."""

from fastapi import APIRouter

router = APIRouter()

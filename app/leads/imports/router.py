"""HTTP: lead imports and their progress."""

from fastapi import APIRouter

router = APIRouter()

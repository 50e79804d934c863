"""HTTP: lead pools and claiming, assigning, releasing leads."""

from fastapi import APIRouter

router = APIRouter()

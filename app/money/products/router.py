"""HTTP: products."""

from fastapi import APIRouter

router = APIRouter()

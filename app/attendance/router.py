"""HTTP: attendance."""

from fastapi import APIRouter

router = APIRouter()

"""HTTP: the company's settings."""

from fastapi import APIRouter

router = APIRouter()

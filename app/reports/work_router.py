"""HTTP: the work-done and visited-customers reports."""

from fastapi import APIRouter

router = APIRouter()

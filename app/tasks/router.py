"""HTTP: tasks."""

from fastapi import APIRouter

router = APIRouter()

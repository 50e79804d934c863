"""HTTP: visit suggestions and today's route."""

from fastapi import APIRouter

router = APIRouter()

"""HTTP: opportunities and their advance through the stages."""

from fastapi import APIRouter

router = APIRouter()

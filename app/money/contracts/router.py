"""HTTP: contracts and their status changes."""

from fastapi import APIRouter

router = APIRouter()

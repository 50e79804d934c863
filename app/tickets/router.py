"""HTTP: service tickets."""

from fastapi import APIRouter

router = APIRouter()

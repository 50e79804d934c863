"""HTTP: the customer map."""

from fastapi import APIRouter

router = APIRouter()

"""HTTP: the achievement and ranking reports."""

from fastapi import APIRouter

router = APIRouter()

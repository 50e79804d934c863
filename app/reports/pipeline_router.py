"""HTTP: the funnel and forecast reports."""

from fastapi import APIRouter

router = APIRouter()

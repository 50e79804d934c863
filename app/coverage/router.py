"""HTTP: the coverage policy and the coverage report."""

from fastapi import APIRouter

router = APIRouter()

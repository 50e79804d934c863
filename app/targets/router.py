"""HTTP: targets: CRUD, split, suggestion."""

from fastapi import APIRouter

router = APIRouter()

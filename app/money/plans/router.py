"""HTTP: a contract's payment plans (instalments)."""

from fastapi import APIRouter

router = APIRouter()

"""HTTP: approval flows and approvals."""

from fastapi import APIRouter

router = APIRouter()

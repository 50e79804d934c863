"""HTTP: the receivables and sales reports."""

from fastapi import APIRouter

router = APIRouter()

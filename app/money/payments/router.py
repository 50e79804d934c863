"""HTTP: payments: record, confirm, reverse."""

from fastapi import APIRouter

router = APIRouter()

"""HTTP: pipelines, their stages and the lost reasons."""

from fastapi import APIRouter

router = APIRouter()

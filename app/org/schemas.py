"""Request and response bodies for companies, departments and users."""

import uuid
from datetime import datetime
from typing import Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.core import limits
from app.core.schemas import Strict
from app.core.types import Email

Role = Literal["rep", "manager", "admin"]
Locale = Literal["zh-CN", "en"]

_ZONES = available_timezones()


class CompanyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    time_zone: str
    created_at: datetime


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    name: str
    parent_id: uuid.UUID | None
    depth: int = Field(description="0 for a root department.")
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: uuid.UUID
    email: str | None = Field(
        description="Null (with `phone`) when the user is an executive above the caller."
    )
    name: str
    role: Role
    department_id: uuid.UUID | None
    locale: str
    phone: str | None
    is_executive: bool = Field(
        description="Their phone and e-mail are hidden from the people below them."
    )
    is_active: bool
    deactivated_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime


class SignupIn(Strict):
    company_name: str = Field(min_length=1, max_length=limits.NAME_MAX)
    time_zone: str = Field("Asia/Shanghai", max_length=limits.TIME_ZONE_MAX)
    admin_name: str = Field(min_length=1, max_length=limits.NAME_MAX)
    email: Email
    password: str = Field(min_length=8, max_length=limits.PASSWORD_MAX)
    locale: Locale = "zh-CN"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in _ZONES:
            raise ValueError("unknown IANA time zone")
        return value


class SignupOut(BaseModel):
    company: CompanyOut
    user: UserOut


class MeOut(BaseModel):
    user: UserOut
    company: CompanyOut
    department: DepartmentOut | None


class DepartmentCreate(Strict):
    id: uuid.UUID | None = None
    name: str = Field(min_length=1, max_length=limits.NAME_MAX)
    parent_id: uuid.UUID | None = Field(None, description="Null makes a root department.")


class DepartmentUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=limits.NAME_MAX)
    parent_id: uuid.UUID | None = Field(None, description="Move under this department.")


class UserCreate(Strict):
    id: uuid.UUID | None = None
    email: Email
    name: str = Field(min_length=1, max_length=limits.NAME_MAX)
    role: Role = "rep"
    department_id: uuid.UUID | None = None
    password: str = Field(min_length=8, max_length=limits.PASSWORD_MAX)
    locale: Locale = "zh-CN"
    phone: str | None = Field(None, max_length=limits.USER_PHONE_MAX)


class UserUpdate(Strict):
    name: str | None = Field(None, min_length=1, max_length=limits.NAME_MAX)
    role: Role | None = None
    department_id: uuid.UUID | None = Field(None, description="Move the user to this department.")
    locale: Locale | None = None
    phone: str | None = Field(None, max_length=limits.USER_PHONE_MAX)
    is_executive: bool | None = Field(
        None, description="Executive mode: hide their phone and e-mail from those below them."
    )


class UserDeactivate(Strict):
    successor_id: uuid.UUID | None = Field(
        None, description="Hand the user's customers to this user instead of the pool."
    )

"""Who sees attendance records (and the files attached to them)."""

from sqlalchemy import ColumnElement

from app.attendance.models import AttendanceRecord
from app.auth.principal import Principal
from app.customers.access import subtree_user_ids


def attendance_visibility(principal: Principal) -> ColumnElement[bool]:
    """The caller's own records; a manager's also those of the people in their department
    subtree; the company's for admins."""
    same_company: ColumnElement[bool] = AttendanceRecord.company_id == principal.company_id
    if principal.is_admin:
        return same_company
    visible: ColumnElement[bool] = AttendanceRecord.user_id == principal.user_id
    if principal.is_manager and principal.department_path:
        visible = visible | AttendanceRecord.user_id.in_(subtree_user_ids(principal))
    return same_company & visible

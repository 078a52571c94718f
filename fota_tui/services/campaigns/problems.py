"""A problem with a campaign spec: the field at fault, what is wrong, and which rule says so."""

from __future__ import annotations

from fota_tui.providers.rules import Problem, problem


def fields_with_problems(problems: list[Problem]) -> set[str]:
    """The top-level fields that have at least one problem (``devices[3]`` → ``devices``)."""
    out = set()
    for item in problems:
        head = item.field.split(".", 1)[0].split("[", 1)[0]
        out.add(head if head != "options" else item.field)
    return out


# Request fields platforms name in rejections → the spec field they come from.
_WIRE_FIELDS = {
    "fileId": "firmware",
    "fileUrl": "firmware",
    "firmwareName": "firmware",
    "firmwareTo": "firmware_to",
    "firmwareFrom": "firmware_from",
    "targets": "devices",
    "deviceList": "devices",
    "terminalIds": "devices",
    "imei": "devices",
    "targets.deviceType": "options.device_type",
    "targets.model": "options.model",
    "targets.manufacturerName": "options.manufacturer",
    "policy.executeType": "execute_type",
    "policy.startTime": "start_at",
    "policy.endTime": "end_at",
    "policy.retryTimes": "retry_times",
    "startDate": "start_at",
    "endDate": "end_at",
    "valid_time": "start_at",
    "expired_time": "end_at",
    "campaignTimeWindowList": "windows",
}


def spec_field(field: str | None) -> str | None:
    """The spec field a platform's rejection concerns (its own names are mapped)."""
    if not field:
        return None
    return _WIRE_FIELDS.get(field, field)


_PLACES = {"devices": "target", "windows": "window", "device_groups": "group"}


def place(field: str) -> str:
    """Where a problem is, as a person counts: ``devices[3]`` → ``target #4``; other
    fields give ''."""
    name, sep, rest = field.partition("[")
    if not sep or name not in _PLACES:
        return ""
    index = rest.split("]", 1)[0]
    return f"{_PLACES[name]} #{int(index) + 1}" if index.isdigit() else ""


__all__ = ["Problem", "fields_with_problems", "place", "problem", "spec_field"]

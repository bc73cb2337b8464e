"""Go's time.Time and time.Duration as docker's typed struct has them, with their methods.

A template may call the methods that scripts use on `{{.Metadata.LastTagTime}}` and the
healthcheck durations (`.Format "2006-01-02"`, `.Unix`, `.Local`, `.Seconds`, ...); each
returns what Go's would, printed as Go prints it. Times are kept as Go keeps them: an instant
(Unix seconds and nanoseconds) and a location (UTC, Local, or a fixed offset from RFC 3339),
so that wall clock fields, zone names and formatting follow the location. Local is Go's: TZ
names a zone of the system's tzdata (`:` and absolute paths allowed), an empty or unknown TZ
is UTC, and without TZ it is /etc/localtime.
"""

import functools
import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import NamedTuple

from inspector.gregorian import civil_from_days, days_from_civil, days_in
from inspector.template.values import (
    BOOL,
    FLOAT64,
    INT,
    INT64,
    STRING,
    UINT8,
    Func,
    GoCallError,
    GoType,
    Kind,
    Value,
    pointer_to,
    slice_of,
)

SECOND = 1_000_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
MIN_INT64 = -(2**63)
MAX_INT64 = 2**63 - 1
_DAY = 86_400
# 0001-01-01T00:00:00Z, Go's zero time, in Unix seconds.
ZERO_UNIX = -62_135_596_800
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]


# -- locations --------------------------------------------------------------------------------


# Location and GoTime are the data of struct-kind Values, so they must not be tuples (the
# engine reads a tuple there as the struct's fields): plain classes, compared by value.
# (Not dataclasses: defining one costs start-up time that every -f run would pay.)


class Location:
    """A *time.Location: `name` is what Location.String() says.

    A fixed zone has its abbreviation and offset; Local has the system's zone rules
    (`rules`, None when Go would fall back to UTC).
    """

    __slots__ = ("abbreviation", "local", "name", "offset", "rules")

    def __init__(
        self,
        name: str,
        abbreviation: str = "",
        offset: int = 0,  # seconds east of UTC
        local: bool = False,
        rules: tzinfo | None = None,
    ) -> None:
        self.name = name
        self.abbreviation = abbreviation
        self.offset = offset
        self.local = local
        self.rules = rules

    def _key(self) -> tuple[str, str, int, bool, tzinfo | None]:
        return (self.name, self.abbreviation, self.offset, self.local, self.rules)

    def __eq__(self, other: object) -> bool:
        return self._key() == other._key() if isinstance(other, Location) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        return f"Location({self.name!r})"


UTC_LOCATION = Location("UTC", "UTC")


@functools.lru_cache(maxsize=8)
def _local_location(tz: str | None) -> Location:
    """Go's time.Local for a value of TZ (None: unset), as time.initLocal sets it up."""
    fallback = Location("UTC", "UTC", local=True)
    if tz is None:
        rules = _zone_file("/etc/localtime")
        return Location("Local", local=True, rules=rules) if rules else fallback
    name = tz.removeprefix(":")
    if name.startswith("/"):
        rules = _zone_file(name)
        shown = "Local" if name == "/etc/localtime" else name
        return Location(shown, local=True, rules=rules) if rules else fallback
    if name and name != "UTC":
        from zoneinfo import ZoneInfo  # tzdata is read only when a template asks for Local

        try:
            return Location(name, local=True, rules=ZoneInfo(name))
        except (KeyError, ValueError, OSError):  # ZoneInfoNotFoundError is a KeyError
            return fallback
    return fallback


def _zone_file(path: str) -> tzinfo | None:
    from zoneinfo import ZoneInfo

    try:
        with Path(path).open("rb") as file:
            return ZoneInfo.from_file(file, key=path)
    except (OSError, ValueError):
        return None


def local_location() -> Location:
    return _local_location(os.environ.get("TZ"))


# Instants outside what datetime can hold take the zone of the nearest one it can.
_LOOKUP_MIN = ZERO_UNIX + 2 * _DAY
_LOOKUP_MAX = 253_402_300_799 - 2 * _DAY  # 9999-12-31T23:59:59Z
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def zone_at(location: Location, unix: int) -> tuple[str, int, bool]:
    """The zone in effect at an instant: abbreviation, seconds east of UTC, daylight saving."""
    if location.rules is None:
        return location.abbreviation, location.offset, False
    moment = _EPOCH + timedelta(seconds=min(max(unix, _LOOKUP_MIN), _LOOKUP_MAX))
    wall = moment.astimezone(location.rules)
    offset = wall.utcoffset() or timedelta()
    dst = wall.dst()
    return wall.tzname() or "", int(offset.total_seconds()), bool(dst)


# -- the calendar -----------------------------------------------------------------------------


# -- time.Time --------------------------------------------------------------------------------


class GoTime:
    """A time.Time: an instant (Unix seconds and 0 <= nanosecond < 1e9) in a location."""

    __slots__ = ("location", "nanosecond", "unix")

    def __init__(self, unix: int, nanosecond: int, location: Location = UTC_LOCATION) -> None:
        self.unix = unix
        self.nanosecond = nanosecond
        self.location = location

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GoTime):
            return NotImplemented
        return (self.unix, self.nanosecond, self.location) == (
            other.unix,
            other.nanosecond,
            other.location,
        )

    def __hash__(self) -> int:
        return hash((self.unix, self.nanosecond, self.location))

    def __repr__(self) -> str:
        return f"GoTime({self.unix}, {self.nanosecond}, {self.location!r})"

    def wall(self) -> "Wall":
        abbreviation, offset, dst = zone_at(self.location, self.unix)
        days, seconds = divmod(self.unix + offset, _DAY)
        year, month, day = civil_from_days(days)
        return Wall(
            year=year,
            month=month,
            day=day,
            hour=seconds // 3600,
            minute=seconds // 60 % 60,
            second=seconds % 60,
            year_day=days - days_from_civil(year, 1, 1) + 1,
            weekday=(days + 4) % 7,
            zone=abbreviation,
            offset=offset,
            dst=dst,
        )

    def nanos(self) -> int:
        """Nanoseconds since the Unix epoch (any size)."""
        return self.unix * SECOND + self.nanosecond

    def plus(self, nanos: int) -> "GoTime":
        unix, nanosecond = divmod(self.nanos() + nanos, SECOND)
        return GoTime(unix, nanosecond, self.location)

    def is_zero(self) -> bool:
        return self.unix == ZERO_UNIX and self.nanosecond == 0


class Wall(NamedTuple):
    """The wall clock of a time in its location."""

    year: int
    month: int
    day: int
    hour: int
    minute: int
    second: int
    year_day: int
    weekday: int  # 0 is Sunday
    zone: str
    offset: int
    dst: bool


ZERO_TIME = GoTime(ZERO_UNIX, 0)

# What docker CLI 28 accepts (Go's time.parseStrictRFC3339 with its fallback to time.Parse):
# an upper-case T and Z, any number of fraction digits (the first 9 count), and zone offsets
# up to +24:60.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]+))?(?:(Z)|([+-])([0-9]{2}):([0-9]{2}))"
)


def parse_rfc3339(text: str) -> GoTime:
    """time.Time.UnmarshalJSON of a JSON string's content; ValueError if Go refuses it.

    As Go does, an offset that Local has at that instant gives a time in Local, any other
    one a fixed zone without a name.
    """
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"parsing time {text!r} as RFC 3339")
    year, month, day, hour, minute, second = (int(match[i]) for i in range(1, 7))
    if not 1 <= month <= 12 or not 1 <= day <= days_in(month, year):
        raise ValueError(f"parsing time {text!r}: day or month out of range")
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"parsing time {text!r}: clock out of range")
    nanosecond = int((match[7] or "")[:9].ljust(9, "0"))
    unix = days_from_civil(year, month, day) * _DAY + hour * 3600 + minute * 60 + second
    if match[8]:
        return GoTime(unix, nanosecond)
    zone_hours, zone_minutes = int(match[10]), int(match[11])
    if zone_hours > 24 or zone_minutes > 60:
        raise ValueError(f"parsing time {text!r}: time zone out of range")
    offset = (zone_hours * 3600 + zone_minutes * 60) * (1 if match[9] == "+" else -1)
    unix -= offset
    local = local_location()
    if zone_at(local, unix)[1] == offset:
        return GoTime(unix, nanosecond, local)
    return GoTime(unix, nanosecond, Location("", "", offset))


# -- formatting: Go's layouts (time/format.go) ------------------------------------------------

_STD_0X = ("zero_month", "zero_day", "zero_hour12", "zero_minute", "zero_second", "year")
_TZ_LAYOUTS = (
    ("Z070000", "iso_seconds_tz"),
    ("Z07:00:00", "iso_colon_seconds_tz"),
    ("Z0700", "iso_tz"),
    ("Z07:00", "iso_colon_tz"),
    ("Z07", "iso_short_tz"),
    ("-070000", "num_seconds_tz"),
    ("-07:00:00", "num_colon_seconds_tz"),
    ("-0700", "num_tz"),
    ("-07:00", "num_colon_tz"),
    ("-07", "num_short_tz"),
)


def _next_chunk(layout: str) -> tuple[str, tuple[str, int, str] | None, str]:
    """time.nextStdChunk: the text before the first layout element, it, and the rest.

    An element is (name, digits, separator); digits and separator only for fractions.
    """
    i = 0
    n = len(layout)
    while i < n:
        c = layout[i]
        rest = layout[i:]
        if c == "J" and rest.startswith("Jan"):
            if rest.startswith("January"):
                return layout[:i], ("long_month", 0, ""), layout[i + 7 :]
            if not _starts_lower(layout[i + 3 :]):
                return layout[:i], ("month", 0, ""), layout[i + 3 :]
        elif c == "M" and n >= i + 3:
            if rest.startswith("Mon"):
                if rest.startswith("Monday"):
                    return layout[:i], ("long_weekday", 0, ""), layout[i + 6 :]
                if not _starts_lower(layout[i + 3 :]):
                    return layout[:i], ("weekday", 0, ""), layout[i + 3 :]
            if rest.startswith("MST"):
                return layout[:i], ("tz", 0, ""), layout[i + 3 :]
        elif c == "0":
            if n >= i + 2 and "1" <= layout[i + 1] <= "6":
                return layout[:i], (_STD_0X[ord(layout[i + 1]) - ord("1")], 0, ""), layout[i + 2 :]
            if rest.startswith("002"):
                return layout[:i], ("zero_year_day", 0, ""), layout[i + 3 :]
        elif c == "1":
            if rest.startswith("15"):
                return layout[:i], ("hour", 0, ""), layout[i + 2 :]
            return layout[:i], ("num_month", 0, ""), layout[i + 1 :]
        elif c == "2":
            if rest.startswith("2006"):
                return layout[:i], ("long_year", 0, ""), layout[i + 4 :]
            return layout[:i], ("day", 0, ""), layout[i + 1 :]
        elif c == "_":
            if rest.startswith("_2"):
                if rest.startswith("_2006"):  # a literal _, then the year
                    return layout[: i + 1], ("long_year", 0, ""), layout[i + 5 :]
                return layout[:i], ("under_day", 0, ""), layout[i + 2 :]
            if rest.startswith("__2"):
                return layout[:i], ("under_year_day", 0, ""), layout[i + 3 :]
        elif c == "3":
            return layout[:i], ("hour12", 0, ""), layout[i + 1 :]
        elif c == "4":
            return layout[:i], ("minute", 0, ""), layout[i + 1 :]
        elif c == "5":
            return layout[:i], ("second", 0, ""), layout[i + 1 :]
        elif c == "P" and rest.startswith("PM"):
            return layout[:i], ("PM", 0, ""), layout[i + 2 :]
        elif c == "p" and rest.startswith("pm"):
            return layout[:i], ("pm", 0, ""), layout[i + 2 :]
        elif c in "-Z":
            for text, name in _TZ_LAYOUTS:
                if rest.startswith(text):
                    return layout[:i], (name, 0, ""), layout[i + len(text) :]
        elif c in ".," and i + 1 < n and layout[i + 1] in "09":
            digit = layout[i + 1]
            j = i + 1
            while j < n and layout[j] == digit:
                j += 1
            if not (j < n and "0" <= layout[j] <= "9"):  # only a run of one digit is a fraction
                name = "frac0" if digit == "0" else "frac9"
                return layout[:i], (name, j - (i + 1), c), layout[j:]
        i += 1
    return layout, None, ""


def _starts_lower(text: str) -> bool:
    return bool(text) and "a" <= text[0] <= "z"


def _int(value: int, width: int) -> str:
    """time.appendInt: a sign, then the digits zero-padded to width."""
    return ("-" if value < 0 else "") + str(abs(value)).zfill(width)


def _nano(nanosecond: int, kind: str, digits: int, separator: str) -> str:
    """time.appendNano: the fraction of a second in `digits` digits (9 at most)."""
    trim = kind == "frac9"
    if trim and (digits == 0 or nanosecond == 0):
        return ""
    text = f"{nanosecond:09d}"[: min(digits, 9)]
    if trim:
        text = text.rstrip("0")
        return separator + text if text else ""
    return separator + text


def format_time(t: GoTime, layout: str) -> str:
    """time.Time.Format."""
    wall = t.wall()
    out: list[str] = []
    while layout:
        prefix, element, layout = _next_chunk(layout)
        out.append(prefix)
        if element is None:
            break
        out.append(_element(t, wall, *element))
    return "".join(out)


def _element(t: GoTime, wall: Wall, name: str, digits: int, separator: str) -> str:
    simple: dict[str, Callable[[], str]] = {
        "year": lambda: _int(abs(wall.year) % 100, 2),
        "long_year": lambda: _int(wall.year, 4),
        "month": lambda: _month_name(wall.month)[:3],
        "long_month": lambda: _month_name(wall.month),
        "num_month": lambda: _int(wall.month, 0),
        "zero_month": lambda: _int(wall.month, 2),
        "weekday": lambda: _DAYS[wall.weekday][:3],
        "long_weekday": lambda: _DAYS[wall.weekday],
        "day": lambda: _int(wall.day, 0),
        "under_day": lambda: (" " if wall.day < 10 else "") + _int(wall.day, 0),
        "zero_day": lambda: _int(wall.day, 2),
        "under_year_day": lambda: f"{wall.year_day:>3d}",
        "zero_year_day": lambda: _int(wall.year_day, 3),
        "hour": lambda: _int(wall.hour, 2),
        "hour12": lambda: _int(wall.hour % 12 or 12, 0),
        "zero_hour12": lambda: _int(wall.hour % 12 or 12, 2),
        "minute": lambda: _int(wall.minute, 0),
        "zero_minute": lambda: _int(wall.minute, 2),
        "second": lambda: _int(wall.second, 0),
        "zero_second": lambda: _int(wall.second, 2),
        "PM": lambda: "PM" if wall.hour >= 12 else "AM",
        "pm": lambda: "pm" if wall.hour >= 12 else "am",
    }
    if name in simple:
        return simple[name]()
    if name in ("frac0", "frac9"):
        return _nano(t.nanosecond, name, digits, separator)
    if name == "tz":
        if wall.zone:
            return wall.zone
        return _zone_digits(wall.offset, colon=False, short=False, seconds=False)
    # The numeric zones; the ISO 8601 ones (Z...) print Z for UTC.
    if name.startswith("iso") and wall.offset == 0:
        return "Z"
    return _zone_digits(
        wall.offset,
        colon="colon" in name,
        short="short" in name,
        seconds="seconds" in name,
    )


def _zone_digits(offset: int, *, colon: bool, short: bool, seconds: bool) -> str:
    minutes = _quo_rem(offset, 60)[0]  # the sign is that of the whole minutes, as in Go
    sign = "-" if minutes < 0 else "+"
    rest = -offset if minutes < 0 else offset
    minutes = abs(minutes)
    text = sign + _int(minutes // 60, 2)
    if colon:
        text += ":"
    if not short:
        text += _int(minutes % 60, 2)
    if seconds:
        text += (":" if colon else "") + _int(_quo_rem(rest, 60)[1], 2)
    return text


def _month_name(month: int) -> str:
    return _MONTHS[month - 1] if 1 <= month <= 12 else f"%!Month({month})"


def time_string(value: Value) -> str:
    """time.Time.String(): `2006-01-02 15:04:05.999999999 -0700 MST`."""
    return format_time(value.data, "2006-01-02 15:04:05.999999999 -0700 MST")


def time_json(value: Value) -> str:
    """time.Time.MarshalJSON(): RFC 3339 with nanoseconds, trailing zeros trimmed.

    GoCallError, as Go's error, for a time RFC 3339 cannot write.
    """
    return '"' + _strict_rfc3339(value.data, "MarshalJSON") + '"'


def _strict_rfc3339(t: GoTime, method: str) -> str:
    """time.Time.appendStrictRFC3339, or the error MarshalJSON and MarshalText return."""
    wall = t.wall()
    if not 0 <= wall.year <= 9999:
        raise GoCallError(f"Time.{method}: year outside of range [0,9999]")
    if abs(_quo_rem(wall.offset, 60)[0]) >= 24 * 60:
        raise GoCallError(f"Time.{method}: timezone hour outside of range [0,23]")
    return format_time(t, "2006-01-02T15:04:05.999999999Z07:00")


def time_go_string(value: Value) -> str:
    """time.Time.GoString(), what %#v prints: `time.Date(2026, time.November, ...)`."""
    t: GoTime = value.data
    wall = t.wall()
    month = f"time.{_MONTHS[wall.month - 1]}" if 1 <= wall.month <= 12 else str(wall.month)
    location = t.location
    if location.local:
        where = "time.Local"
    elif location is UTC_LOCATION:
        where = "time.UTC"
    else:  # a zone fixed by a parsed offset, which has no name
        where = f'time.Location("{location.name}")'
    return (
        f"time.Date({wall.year}, {month}, {wall.day}, {wall.hour}, {wall.minute}, "
        f"{wall.second}, {t.nanosecond}, {where})"
    )


# -- time.Duration ----------------------------------------------------------------------------


def format_duration(nanos: int) -> str:
    """Nanoseconds as Go's time.Duration.String() prints them: `1h2m3.5s`, `1.5ms`, `0s`."""
    if nanos == 0:
        return "0s"
    sign = "-" if nanos < 0 else ""
    magnitude = abs(nanos)
    if magnitude < SECOND:
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if magnitude < size * 1000:
                return sign + _decimal(magnitude, size) + unit
    hours, rest = divmod(magnitude, HOUR)
    minutes, rest = divmod(rest, MINUTE)
    text = _decimal(rest, SECOND) + "s"
    if hours or minutes:
        text = f"{minutes}m" + text
    if hours:
        text = f"{hours}h" + text
    return sign + text


def _decimal(amount: int, unit: int) -> str:
    whole, fraction = divmod(amount, unit)
    if not fraction:
        return str(whole)
    digits = len(str(unit)) - 1
    return f"{whole}.{fraction:0{digits}d}".rstrip("0")


def duration_string(value: Value) -> str:
    """time.Duration.String()."""
    return format_duration(value.data)


def _quo_rem(value: int, unit: int) -> tuple[int, int]:
    """Go's integer / and %: the quotient rounded toward zero, the remainder with value's sign."""
    quotient, remainder = divmod(abs(value), unit)
    return (-quotient, -remainder) if value < 0 else (quotient, remainder)


def _float_of(value: int, unit: int) -> float:
    """Duration.Hours/Minutes/Seconds: whole units plus the fraction, as Go computes them."""
    whole, rest = _quo_rem(value, unit)
    return float(whole) + float(rest) / float(unit)


def _saturated(nanos: int) -> int:
    return min(max(nanos, MIN_INT64), MAX_INT64)


def _wrapped(number: int) -> int:
    """An int64 that overflowed, as Go's arithmetic leaves it."""
    return (number - MIN_INT64) % 2**64 + MIN_INT64


def _round_duration(d: int, m: int) -> int:
    if m <= 0:
        return d
    r = _quo_rem(d, m)[1]
    if d < 0:
        r = -r
        if r + r < m:
            return d + r
        rounded = d - m + r
        return rounded if rounded >= MIN_INT64 else MIN_INT64
    if r + r < m:
        return d - r
    rounded = d + m - r
    return rounded if rounded <= MAX_INT64 else MAX_INT64


def _truncate_duration(d: int, m: int) -> int:
    return d if m <= 0 else d - _quo_rem(d, m)[1]


def _abs_duration(d: int) -> int:
    if d >= 0:
        return d
    return MAX_INT64 if d == MIN_INT64 else -d


# -- the types, with their methods ------------------------------------------------------------

_TIME_METHODS: dict[str, Callable[..., Value] | Func] = {}
_DURATION_METHODS: dict[str, Callable[..., Value] | Func] = {}
_LOCATION_METHODS: dict[str, Callable[..., Value] | Func] = {}

TIME = GoType(
    "time.Time",
    Kind.STRUCT,
    stringer=time_string,
    go_stringer=time_go_string,
    methods=_TIME_METHODS,
    json_marshaler=time_json,
    zero_data=ZERO_TIME,
)
DURATION = GoType("time.Duration", Kind.INT, stringer=duration_string, methods=_DURATION_METHODS)
MONTH = GoType(
    "time.Month",
    Kind.INT,
    stringer=lambda value: _month_name(value.data),
    methods={"String": lambda receiver: Value(STRING, _month_name(receiver.data))},
)


def _weekday_name(day: int) -> str:
    return _DAYS[day] if 0 <= day <= 6 else f"%!Weekday({day})"


WEEKDAY = GoType(
    "time.Weekday",
    Kind.INT,
    stringer=lambda value: _weekday_name(value.data),
    methods={"String": lambda receiver: Value(STRING, _weekday_name(receiver.data))},
)
# time.Location has only unexported fields: `{{json}}` of it is `{}`.
LOCATION = GoType(
    "time.Location",
    Kind.STRUCT,
    stringer=lambda value: value.data.name,
    methods=_LOCATION_METHODS,
    zero_data=UTC_LOCATION,
)
LOCATION_POINTER = pointer_to(LOCATION)
BYTES = slice_of(UINT8)


def _time(t: GoTime) -> Value:
    return Value(TIME, t)


def _instant(value: Value) -> tuple[int, int]:
    t: GoTime = value.data
    return t.unix, t.nanosecond


def _wall_int(field: str) -> Callable[[Value], Value]:
    return lambda receiver: Value(INT, getattr(receiver.data.wall(), field))


def _add_date(receiver: Value, years: Value, months: Value, days: Value) -> Value:
    """time.Time.AddDate: time.Date of the shifted wall clock, normalized, in the location."""
    t: GoTime = receiver.data
    wall = t.wall()
    month_index = wall.month - 1 + months.data
    year = wall.year + years.data + month_index // 12
    day_number = days_from_civil(year, month_index % 12 + 1, 1) + wall.day - 1 + days.data
    seconds = day_number * _DAY + wall.hour * 3600 + wall.minute * 60 + wall.second
    return _time(GoTime(_unix_of_wall(seconds, t.location), t.nanosecond, t.location))


def _unix_of_wall(seconds: int, location: Location) -> int:
    """time.Date's search for the zone offset of a wall clock (in seconds since 1970)."""
    offset = zone_at(location, seconds)[1]
    if offset:
        offset = zone_at(location, seconds - offset)[1]
    return seconds - offset


def _truncate_time(receiver: Value, d: Value) -> Value:
    t: GoTime = receiver.data
    if d.data <= 0:
        return receiver
    since_zero = t.nanos() - ZERO_UNIX * SECOND
    return _time(t.plus(-(since_zero % d.data)))


def _round_time(receiver: Value, d: Value) -> Value:
    t: GoTime = receiver.data
    if d.data <= 0:
        return receiver
    remainder = (t.nanos() - ZERO_UNIX * SECOND) % d.data
    if remainder + remainder < d.data:
        return _time(t.plus(-remainder))
    return _time(t.plus(d.data - remainder))


def _marshal(receiver: Value, method: str) -> Value:
    """MarshalJSON and MarshalText: the bytes of the RFC 3339 text, or Go's error."""
    text = _strict_rfc3339(receiver.data, method)
    if method == "MarshalJSON":
        text = f'"{text}"'
    return Value(BYTES, [Value(UINT8, byte) for byte in text.encode()])


def _compare(a: Value, b: Value) -> int:
    left, right = _instant(a), _instant(b)
    return (left > right) - (left < right)


_TIME_METHODS.update(
    {
        "Add": Func((DURATION,), lambda r, d: _time(r.data.plus(d.data))),
        "AddDate": Func((INT, INT, INT), _add_date),
        "After": Func((TIME,), lambda r, u: Value(BOOL, _compare(r, u) > 0)),
        "Before": Func((TIME,), lambda r, u: Value(BOOL, _compare(r, u) < 0)),
        "Compare": Func((TIME,), lambda r, u: Value(INT, _compare(r, u))),
        "Equal": Func((TIME,), lambda r, u: Value(BOOL, _compare(r, u) == 0)),
        "Day": _wall_int("day"),
        "Format": Func(
            (STRING,), lambda r, layout: Value(STRING, format_time(r.data, layout.data))
        ),
        "GoString": lambda r: Value(STRING, time_go_string(r)),
        "Hour": _wall_int("hour"),
        "IsDST": lambda r: Value(BOOL, r.data.wall().dst),
        "IsZero": lambda r: Value(BOOL, r.data.is_zero()),
        "Local": lambda r: _time(GoTime(r.data.unix, r.data.nanosecond, local_location())),
        "Location": lambda r: Value(LOCATION_POINTER, Value(LOCATION, r.data.location)),
        "MarshalJSON": lambda r: _marshal(r, "MarshalJSON"),
        "MarshalText": lambda r: _marshal(r, "MarshalText"),
        "Minute": _wall_int("minute"),
        "Month": lambda r: Value(MONTH, r.data.wall().month),
        "Nanosecond": lambda r: Value(INT, r.data.nanosecond),
        "Round": Func((DURATION,), _round_time),
        "Second": _wall_int("second"),
        "String": lambda r: Value(STRING, time_string(r)),
        "Sub": Func(
            (TIME,), lambda r, u: Value(DURATION, _saturated(r.data.nanos() - u.data.nanos()))
        ),
        "Truncate": Func((DURATION,), _truncate_time),
        "UTC": lambda r: _time(GoTime(r.data.unix, r.data.nanosecond)),
        "Unix": lambda r: Value(INT64, _wrapped(r.data.unix)),
        "UnixMicro": lambda r: Value(
            INT64, _wrapped(r.data.unix * 1_000_000 + r.data.nanosecond // 1000)
        ),
        "UnixMilli": lambda r: Value(
            INT64, _wrapped(r.data.unix * 1000 + r.data.nanosecond // 1_000_000)
        ),
        "UnixNano": lambda r: Value(INT64, _wrapped(r.data.nanos())),
        "Weekday": lambda r: Value(WEEKDAY, r.data.wall().weekday),
        "Year": _wall_int("year"),
        "YearDay": _wall_int("year_day"),
    }
)
_DURATION_METHODS.update(
    {
        "Abs": lambda r: Value(DURATION, _abs_duration(r.data)),
        "Hours": lambda r: Value(FLOAT64, _float_of(r.data, HOUR)),
        "Microseconds": lambda r: Value(INT64, _quo_rem(r.data, 1000)[0]),
        "Milliseconds": lambda r: Value(INT64, _quo_rem(r.data, 1_000_000)[0]),
        "Minutes": lambda r: Value(FLOAT64, _float_of(r.data, MINUTE)),
        "Nanoseconds": lambda r: Value(INT64, r.data),
        "Round": Func((DURATION,), lambda r, m: Value(DURATION, _round_duration(r.data, m.data))),
        "Seconds": lambda r: Value(FLOAT64, _float_of(r.data, SECOND)),
        "String": lambda r: Value(STRING, duration_string(r)),
        "Truncate": Func(
            (DURATION,), lambda r, m: Value(DURATION, _truncate_duration(r.data, m.data))
        ),
    }
)
_LOCATION_METHODS["String"] = lambda r: Value(STRING, r.data.name)

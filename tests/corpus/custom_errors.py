"""Validation with the program's own exception classes, caught by type around the region, as
a script that retries or skips bad records would: the caught exception must be the one the
sequential run catches (type, message, fields), on every target."""

from toreador import data_parallel_region


class RecordError(Exception):
    """Its __init__ takes other arguments than the message it passes on."""

    def __init__(self, record_id, reason):
        super().__init__(f"record {record_id}: {reason}")
        self.record_id, self.reason = record_id, reason


class TooLarge(RecordError):
    pass


def validate(record):
    record_id, value = record
    print(f"checking {record_id}")
    if value is None:
        raise RecordError(record_id, "missing value")
    if value > 100:
        raise TooLarge(record_id, f"{value} over 100")
    return value * 2


def run(records):
    try:
        return data_parallel_region(records, validate)
    except TooLarge as error:
        print("too large:", error, error.record_id, error.reason)
    except RecordError as error:
        print("invalid:", error, error.record_id, type(error).__name__)
    return None


if __name__ == "__main__":
    print(run([(1, 5), (2, 7), (3, 9)]))
    print(run([(1, 5), (2, None), (3, 9)]))
    print(run([(1, 5), (2, 6), (3, 250), (4, None)]))

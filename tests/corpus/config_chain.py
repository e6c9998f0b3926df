"""Validates configuration files in parallel and reports each failure with its cause, as a
deployment check would: the main program walks ``__cause__`` and ``__context__`` of what a
kernel raised."""

from toreador import data_parallel_region


class ConfigError(Exception):
    def __init__(self, name, problem):
        super().__init__(f"{name}: {problem}")
        self.name = name


def parse(entry):
    name, text = entry
    try:
        key, value = text.split("=")
        return key.strip(), int(value)
    except ValueError as error:
        if "=" not in text:
            raise ConfigError(name, "no '=' in the line") from None
        raise ConfigError(name, "the value is not a number") from error


def check(entry):
    try:
        return parse(entry)
    except ConfigError as error:
        if entry[0] == "c.cfg":
            raise RuntimeError("while checking c.cfg") from error
        raise
    finally:
        pass


def handle_cleanly(entry):
    try:
        return parse(entry)
    except ConfigError:
        return {}["missing"]  # a KeyError raised while handling the ConfigError


def describe(error):
    parts = [f"{type(error).__name__}({error})"]
    if error.__cause__ is not None:
        parts.append(f"cause {describe(error.__cause__)}")
    if error.__context__ is not None and not error.__suppress_context__:
        parts.append(f"context {describe(error.__context__)}")
    parts.append(f"suppress={error.__suppress_context__}")
    return " / ".join(parts)


if __name__ == "__main__":
    batches = [
        [("a.cfg", "port = 80"), ("b.cfg", "port = eighty")],
        [("a.cfg", "port = 80"), ("d.cfg", "port: 80")],
        [("c.cfg", "port = x")],
    ]
    for batch in batches:
        try:
            print(data_parallel_region(batch, check))
        except Exception as error:
            print(describe(error))
    try:
        data_parallel_region([("e.cfg", "port = e")], handle_cleanly)
    except KeyError as error:
        print(describe(error))

"""Runs the same batch in several modes, switching an environment variable and the warning
filters between regions, with logging set up by dictConfig: what a kernel reads from the
process must be what the main program had set for that region."""

import logging.config
import os
import warnings

from toreador import data_parallel_region

logging.config.dictConfig(
    {
        "version": 1,
        "formatters": {"short": {"format": "[%(levelname)s] %(message)s"}},
        "handlers": {
            "out": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "short",
            }
        },
        "loggers": {"modes": {"handlers": ["out"], "level": "INFO", "propagate": False}},
    }
)
log = logging.getLogger("modes")


def scaled(x):
    mode = os.environ.get("MODE", "none")
    log.info("item %s in mode %s", x, mode)
    if mode == "strict":
        warnings.warn("strict mode", UserWarning, stacklevel=1)
    return f"{x}:{mode}"


if __name__ == "__main__":
    for mode in ("fast", "strict", "fast"):
        os.environ["MODE"] = mode
        with warnings.catch_warnings():
            warnings.simplefilter("error" if mode == "strict" else "ignore")
            try:
                print(data_parallel_region([1, 2, 3], scaled))
            except UserWarning as error:
                print("warned:", error)
    del os.environ["MODE"]
    print(data_parallel_region([4], scaled))

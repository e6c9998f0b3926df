"""The toreador compiler: parse, analyse, plan, render. docs/development.md maps the stages;
docs/user-guide.md states the contract (what a compiled program promises, what is refused)."""

from .pipeline import CompiledProgram, compile_source, write_output

__all__ = ["CompiledProgram", "compile_source", "write_output"]

"""The toreador compiler: parse, analyse, plan, render. See design.md for the contract."""

from .pipeline import CompiledProgram, compile_source, write_output

__all__ = ["CompiledProgram", "compile_source", "write_output"]

"""Analysis: the regions of a module and the closure of definitions their kernels need.

One module per rule family, sharing one ``Context``: ``kernels`` (regions and kernels),
``closure`` (what must be shipped), ``writes`` (globals workers would not see change),
``kernel_warnings`` (what may behave differently), and ``summary``, which runs them in
order and freezes the result (``model``). Every diagnostic is a class in ``messages``.
"""

from .model import Hoisted, KeptDefinition, ModuleAnalysis, RegionCall
from .summary import analyse_module

__all__ = ["Hoisted", "KeptDefinition", "ModuleAnalysis", "RegionCall", "analyse_module"]

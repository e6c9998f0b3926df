"""`python -m mtbf_example ...`"""

from .cli import main

main()

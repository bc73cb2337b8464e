"""--ci: dive's CI rules on an image's wasted space, read and judged as dive reads and judges
them.

rules.py parses a rule's value (as dive's flags and .dive-ci give it) and evaluates the rules
on the numbers contents/analysis.py measures; config.py reads the rules a .dive-ci file sets.
Both are pure and loaded only when a run asks for the gate.
"""

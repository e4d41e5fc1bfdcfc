"""make chaos: faults injected into Parley as the Procfile runs it, with two
people talking and their pages open, and what each fault cost them."""

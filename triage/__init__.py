"""COVID-19 triage: the protocol as versioned data, and a pure engine from answers to an outcome.

`protocols/covid-2020.1.yml` holds the codes, the rules R1–R8 and the dispositions of
../shared/reference/DOMAIN.md; `engine.assess(protocol, answers)` applies it; `answers.py` checks an
answers object against the protocol's codes, naming the field that is wrong.
"""

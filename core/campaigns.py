"""The contact center's campaigns (../shared/reference/DOMAIN.md): code → name shown to people."""

from __future__ import annotations

CAMPAIGNS: dict[str, str] = {
    "derechohabiente": "Orientación a derechohabientes",
    "contribuyente": "Patrones y sujetos obligados",
    "cita_medica": "Cita Médica",
    "omt_covid": "Orientación Médica Telefónica COVID-19",
    "salud_mental": "OMT Salud Mental",
    "codigo_infarto": "Código Infarto",
    "denuncias": "Denuncias ante el Órgano Interno de Control",
    "pensionados": "Pensionados",
    "incapacidad_maternidad": "Incapacidad por maternidad",
    "entrega_medicamentos": "Entrega de Medicamentos",
    "trabajadoras_hogar": "Trabajadoras del hogar",
    "bienestar_social": "Bienestar Social, Velatorios, Centros Vacacionales",
}


def is_campaign(code: str) -> bool:
    return code in CAMPAIGNS

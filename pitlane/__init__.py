"""Operator tooling: run services, declare the broker topology, tokens, dead letters, demo data."""
import importlib

SERVICE_CLASSES = {
    "booking": "services.booking.service:BookingService",
    "workshop": "services.workshop.service:WorkshopService",
    "parts": "services.parts.service:PartsService",
    "billing": "services.billing.service:BillingService",
    "crm": "services.crm.service:CrmService",
}


def service_class(name: str):
    module, cls = SERVICE_CLASSES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def all_service_classes():
    return [service_class(name) for name in SERVICE_CLASSES]

"""Operator tooling: run services, declare the broker topology, tokens, dead letters, demo data."""
import importlib

from shared.config import INTEGRATIONS, SERVICES

# name -> "module:class"; each service is services/<name>/service.py, class <Name>Service
SERVICE_CLASSES = {name: f"services.{name}.service:{name.capitalize()}Service" for name in (*SERVICES, *INTEGRATIONS)}


def service_class(name: str):
    module, cls = SERVICE_CLASSES[name].split(":")
    return getattr(importlib.import_module(module), cls)


def all_service_classes():
    return [service_class(name) for name in SERVICE_CLASSES]

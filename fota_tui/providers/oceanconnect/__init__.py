"""Huawei OceanConnect (IOCM/IODM northbound v1.5.0) adapter."""

"""Device simulators for the Energy Gateways integration.

Each sub-package emulates one device type on the local network (REST, push
streams and fault injection) so the integration can be developed and tested
without hardware. Run ``python -m simulators --help`` for the command line.
"""

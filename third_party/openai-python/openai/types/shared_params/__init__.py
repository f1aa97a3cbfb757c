# File generated from our OpenAPI spec by Stainless. See CONTRIBUTING.md for details.

from .function_definition import FunctionDefinition as FunctionDefinition
from .function_parameters import FunctionParameters as FunctionParameters

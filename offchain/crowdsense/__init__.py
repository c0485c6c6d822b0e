"""crowdsense: privacy-preserving mobile crowdsensing on Ethereum (PMCB + LDPF).

Sub-modules are imported on demand so that light tools (the solc shim installer, the hash
helpers) do not pay for numpy, scipy or web3 start-up.
"""

__version__ = "0.1.0"
__all__ = ["__version__"]

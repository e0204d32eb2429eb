"""OWL reasoning with owlready2 and SHACL validation with pySHACL."""

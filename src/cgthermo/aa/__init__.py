"""All-atom MD in OpenMM: build and parameterize (prepare), unfold, production with forces (aa_md)."""

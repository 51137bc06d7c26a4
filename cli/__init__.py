"""The netkit command-line application (click) and its rich views."""

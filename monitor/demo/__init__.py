"""Demo data: the generator of invented values between the published ones, marked as demo."""

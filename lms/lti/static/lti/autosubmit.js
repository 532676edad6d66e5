// Sends the deep-linking response to the platform at once; the button does it without script.
document.querySelectorAll("form[data-autosubmit]").forEach(function (form) { form.submit(); });

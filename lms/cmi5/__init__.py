"""cmi5: our modules as assignable units (AUs) launched by a host LMS.

Setting it up, for an admin:

1. ``flask --app wsgi lms cmi5 add-platform --name "Campus LMS" --organisation SLUG
   --origin https://lms.example.org [--origin https://lrs.example.org]``: the LMS may
   launch our modules; its learners get accounts in that organisation (one per actor
   account of that LMS), so its trainers see them on their dashboards.
2. ``flask --app wsgi lms modules export-cmi5 gmp-fundamentals --output DIR [--zip]``:
   the course structure (``cmi5.xml``) to import into the LMS.
3. ``flask --app wsgi lms cmi5 deliver --watch`` beside the web processes: statements the
   LMS's LRS could not take at once are sent when it is back.

At run time: the launch (``views.launch``) checks the five launch parameters, POSTs once
to the fetch URL for the session's token, reads ``LMS.LaunchData`` and the learner's
``cmi5LearnerPreferences`` (the interface language), signs the learner in and sends
``initialized``; the quiz and the lesson reads call ``tracking``, which sends ``passed``
or ``failed`` and ``completed`` as cmi5 rules them; the Exit button sends ``terminated``
and returns to the LMS's ``returnURL``. Statements wait in a small outbox of their own
(``outbox``) until the LMS's LRS has them. Only cmi5 defined statements are sent.
"""

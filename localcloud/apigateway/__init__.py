"""API Gateway's data plane for REST APIs (moto has the control plane only): the invoke URL, the Lambda proxy.

Engines (no moto): ``routing.py`` (the invoke URL's forms, the resource and method a request reaches),
``events.py`` (the REST proxy event, payload format 1.0), ``responses.py`` (the proxy response mapped to
the client's answer; the gateway responses: 403, 429, 500, 502, 504), ``throttle.py`` (token buckets for
the account and stage limits), ``access_logs.py`` (``$context`` variables into the stage's access log
format), ``permissions.py`` (the function's resource policy for ``apigateway.amazonaws.com``);
``hooks.py`` puts them into moto's server: requests to the invoke URL run the integration's function
through the kit's Lambda runtime, publish ``AWS/ApiGateway`` metrics and write access logs.
"""

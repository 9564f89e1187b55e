// aws-local-stepfunctions 3.x uses Promise.withResolvers, which Node 22 has and Node 20 lacks.
import '../../local/polyfills';

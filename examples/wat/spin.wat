;; spin: never returns. A hostile program: the worker must stop it at the job's CPU limit and go on.
(module
  (import "fog" "memory" (memory 1))
  (func (export "run") (loop $forever (br $forever))))

fail=0; ok=0
for i in $(seq 1 300); do
  code=$(curl -s -o /dev/null -w "%{http_code}" --cacert /tmp/hxt/ca.pem --resolve www.example.test:18443:127.0.0.1 https://www.example.test:18443/x)
  if [ "$code" = 200 ]; then ok=$((ok+1)); else fail=$((fail+1)); echo "fail $code"; fi
done
echo "ok=$ok fail=$fail"
